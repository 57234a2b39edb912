"""OCR: pixels in, text lines with per-character boxes out."""
