"""Vaccination certificates: signing keys (``keys``), the formats other countries verify
(``hc1``: EU DCC / WHO GDHCN; ``shc``: SMART Health Cards; ``ddcc``: WHO DDCC:VS), the
certificate identifier (``uvci``), issuing on each recorded dose (``issuing``), verification
(``verify``, ``trust``) and revocation (``revocation``). Knows nothing of Flask: views, the
API and the CLI call these modules."""
