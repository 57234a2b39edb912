"""Change tracking: what changed since the previous frame, and which findings carry over."""
