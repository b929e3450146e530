"""One module per relay board or sensor family; ``hardware.factory`` picks one from the config."""
