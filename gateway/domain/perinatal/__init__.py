"""The perinatal programme "first 1000 days" (``care-teams-referrals-rights.md``,
PN-1..PN-3, RF-3): a woman's follow-up from a declared pregnancy to her
child's third birthday, with its care team (CT-1..CT-5), the Born in Belgium
Professionals screening of psychosocial vulnerabilities and the vulnerability
profile derived from it, the referrals to support that follow, all resting on
her consent, which she may withdraw at any time.
"""
