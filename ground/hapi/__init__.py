"""HAPI 3.3 data services: a server over the archive (``app``) and a client that imports
another centre's data (``client``). See README "HAPI data services"."""
