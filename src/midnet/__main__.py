"""``python -m midnet``: the same command line as ``midnet``, for environments without the script."""

from midnet.cli.main import main

if __name__ == "__main__":
    main()
