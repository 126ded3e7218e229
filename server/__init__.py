"""coio-server: the gevent side of coio. The only package that imports gevent."""
