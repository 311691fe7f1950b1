"""Ground segment and science operations centre: knows the payload only through the dictionary
(``protocol``) and the link (``links``), never by importing ``flight`` or ``sim``."""
