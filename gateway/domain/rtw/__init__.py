"""Return to work (``return-to-work.md``): the dossier of an insured person
unfit for work, who may see it (RP-A1..RP-A7), the registration form
(RP-F1, RP-F2, RP-M1), retention (RP-R1) and logging (RP-R2).

The partners' facts (insurer affiliation, employers, prevention services,
job-seeker registrations, user management, TRIO) come through the ports of
:mod:`gateway.domain.rtw.ports`; this package knows no wire format.
"""
