"""An example cowin-kit ID-provider plugin: the Example Republic's national ID number,
checked offline (9 digits, Luhn check digit) and verified online against the national
registry over HTTP/JSON.

``example_registry.provider.RegistryNationalId`` is the plugin (entry point
``example.national-id`` in group ``cowin_kit.id_providers``);
``example_registry.fake_registry`` is a fake registry for tests and demos.
"""

__version__ = "0.1.0"
