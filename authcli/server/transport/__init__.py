"""Transport: the event loop, HTTP/1.1 on the wire (h11), limits and the front door; knows no auth scheme."""
