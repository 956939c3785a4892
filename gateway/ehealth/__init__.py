"""The simulated eHealth platform (STS, attribute authority, TherLink, consent,
AddressBook/CoBrHa, national register and its mutation feed) and its
deterministic sandbox data, so that vendors and every test run offline."""
