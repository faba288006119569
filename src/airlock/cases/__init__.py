"""Cases: coordinating a submission's findings with the firm (participants, threads,
deadlines from policy, embargo)."""
