"""Return to work (``return-to-work.md``): the dossier of an insured person
unfit for work, who may see it (RP-A1..RP-A7), the registration form
(RP-F1, RP-F2, RP-M1), retention (RP-R1) and logging (RP-R2); and the
trajectory: requests (RP-F3, RF-2), validation (RP-F4), decisions and the
weekly run (RP-F5), messages (RP-F6), lists (RP-F7), the medical exchange
(RP-F8), the TRIO link (RP-F9), statistics (RP-R3).

The partners' facts (insurer affiliation, employers, prevention services,
job-seeker registrations, user management, TRIO) come through the ports of
:mod:`gateway.domain.rtw.ports`; this package knows no wire format.
"""
