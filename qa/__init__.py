"""qa: cited, grounded answers in Dutch and French over a trade union's documents."""

__version__ = "0.1.0"
