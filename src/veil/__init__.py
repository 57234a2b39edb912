"""Veil: learn from screen recordings without personal data leaving the premises."""

import os

__version__ = "0.1.0"

# onnxruntime (PP-OCR, the face model) writes a device id and a telemetry database under
# ~/.cache/Microsoft/DeveloperTools at import unless this is set before its first import; Veil
# imports it only through its own modules, so setting it here covers every entry point.
os.environ["ORT_DISABLE_TELEMETRY"] = "1"
