"""Ground optical-downlink decoder: bit stream -> frames -> the looped file, with link statistics."""
