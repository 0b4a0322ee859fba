"""The analysts' web workbench: a presentation sibling of ``cli/``.

Routes parse the request, call the service functions the commands call, and render JSON
or an HTML page; who may do what, text rules, bounds and signing live in the services
(:mod:`sitewatch.auth` among them). Nothing below imports this package.
"""
