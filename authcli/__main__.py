"""`python -m authcli` runs the same CLI as the `authcli` command."""

from authcli.cli import main

if __name__ == "__main__":
    main()
