"""Command-line interface (click). One module per subcommand; see main.py."""
