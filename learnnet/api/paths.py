"""Where the API lives: its own module, so that the views and the document can name it
without importing the package that imports them."""

API_PREFIX = "/api/v1"
