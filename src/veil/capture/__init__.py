"""Sources of frames (video file, image, folder of images) and sinks for redacted output."""
