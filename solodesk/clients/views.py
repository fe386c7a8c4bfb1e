"""Web views; see urls.py."""
