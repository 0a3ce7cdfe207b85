"""The app's widgets, one per module: they render state and post messages."""
