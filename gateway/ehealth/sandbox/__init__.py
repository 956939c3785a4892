"""Sandbox data of the simulated platform: registries generated from a seed
(national register, CoBrHa, memberships, therapeutic links, insurers), the
CareFacts and NationalRegister answering from them, and ready-made personas.

The same seed always gives the same people and numbers, so tests, docs and a
vendor's test script can name them."""
