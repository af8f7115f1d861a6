"""The service's client: what the terminal and the administrators' commands use.

Light: HTTP (the standard library's http.client) over the Unix socket, the wire types and the domain; never the
store, pydantic or the backends.
"""
