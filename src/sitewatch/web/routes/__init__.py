"""The routers, one module per area of the workbench."""
