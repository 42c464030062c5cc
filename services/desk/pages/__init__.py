"""The investigators' workspace in the browser: server-side pages on the desk's use cases.

Pages call the same use cases as the JSON API (never the API over HTTP), render Jinja2
templates in the visitor's language (``services.common.pages``) and update themselves
with htmx: the request page asks every few seconds whether anything changed.
"""
