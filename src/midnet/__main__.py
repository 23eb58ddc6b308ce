"""``python -m midnet``: the same command line as ``midnet``, for environments without the script."""

from midnet.cli.main import cli

if __name__ == "__main__":
    cli(prog_name="midnet")
