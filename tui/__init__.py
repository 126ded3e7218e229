"""coio-tui: the Textual chat client. The only package that imports textual and trio."""
