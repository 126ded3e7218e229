"""The browser view: coio-tui served to web browsers, one app process per tab."""
