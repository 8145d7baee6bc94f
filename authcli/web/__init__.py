"""Browser pages served by authcli serve: plain HTML, CSS and JavaScript files."""
