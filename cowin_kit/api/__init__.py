"""The HTTP JSON API, following the public Co-WIN API v2 (paths, fields, DD-MM-YYYY dates,
``{"errorCode", "error"}`` errors), so Co-WIN clients work by changing the base URL."""
