"""The tiny local HTTP server and the auth schemes it runs, grouped by job.

transport/ (loop, wire, limits, doors, httpd, balancer) knows no scheme; schemes/ (session,
jwt, refresh, cookies) read their decisions from policy.py; lab/ holds the weaknesses and the
cross-site teaching routes. Import names from their modules (`from
authcli.server.transport.httpd import AuthServer`): this face imports nothing, so importing a
small module such as `authcli.server.journal` does not pull in the HTTP server.
"""
