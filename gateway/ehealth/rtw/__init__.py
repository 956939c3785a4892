"""The simulated return-to-work sources (``return-to-work.md``): CIN
membership data, Dimona, SEED-Connect, JobSeeker (through a data attribute
service), user management, TRIO with a blinded pseudonymisation service,
and the second identity provider, the social-security crossroads bank's.
Their sandbox data come from the same seed as the registries."""
