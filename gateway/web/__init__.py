"""The few HTML pages people use: the gateway's home page (:mod:`gateway.web.home`),
the validator page's assets, and what the pages share (:mod:`gateway.web.html`)."""
