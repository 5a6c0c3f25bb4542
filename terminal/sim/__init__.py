"""Stand-ins for the outside world: simulated camera scenes, platform and customer wallet."""
