"""The capture agent (`veil record`): captures this screen, keeps frames only on change and never
while a confidential window is in front, redacts and verifies them here with the incremental
pipeline, and uploads verified segments only (see docs/agent.md)."""
