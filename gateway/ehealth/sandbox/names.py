"""Names for sandbox people, by community, so that the register looks like
Belgium's: Flemish, Walloon and Brussels names. All people are fictional."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Community:
    name: str
    weight: int  # relative share among sandbox people
    last_names: tuple[str, ...]
    male_first_names: tuple[str, ...]
    female_first_names: tuple[str, ...]


FLANDERS = Community(
    "flanders",
    45,
    (
        "Peeters", "Janssens", "Maes", "Jacobs", "Mertens", "Willems", "Claes", "Goossens",
        "Wouters", "De Smet", "Van den Broeck", "Vermeulen", "Van Damme", "De Vos", "Hermans",
        "Pauwels", "Aerts", "Verstraete", "Van de Velde", "Lambrechts", "Vandenberghe",
        "Coppens", "Declercq", "Verhoeven", "De Backer", "Smets", "Hendrickx", "Van Acker",
    ),
    (
        "Jan", "Pieter", "Lucas", "Wouter", "Koen", "Bart", "Stijn", "Jef", "Dirk", "Luc",
        "Noah", "Arthur", "Lars", "Jules", "Wim", "Tom", "Geert", "Marc", "Warre", "Seppe",
    ),
    (
        "An", "Els", "Sofie", "Lies", "Marie", "Emma", "Lotte", "Hanne", "Katrien", "Griet",
        "Nele", "Anke", "Louise", "Fien", "Ine", "Veerle", "Mia", "Roos", "Godelieve", "Mieke",
    ),
)

WALLONIA = Community(
    "wallonia",
    35,
    (
        "Dubois", "Lambert", "Dupont", "Martin", "Simon", "Laurent", "Leclercq", "Lejeune",
        "Renard", "Lemaire", "Collard", "François", "Denis", "Mathieu", "Henrard", "Fontaine",
        "Gillet", "Piron", "Masson", "Delvaux", "Hubert", "Wathelet", "Gérard", "Baudoux",
    ),
    (
        "Jean", "Pierre", "Philippe", "Olivier", "Michel", "Nicolas", "Thomas", "Louis",
        "Julien", "Benoît", "Hugo", "François", "Guillaume", "Maxime", "Arnaud", "Raphaël",
    ),
    (
        "Marie", "Anne", "Isabelle", "Nathalie", "Catherine", "Sophie", "Camille", "Chloé",
        "Léa", "Manon", "Françoise", "Martine", "Juliette", "Céline", "Margaux", "Josiane",
    ),
)

BRUSSELS = Community(
    "brussels",
    20,
    (
        "El Amrani", "Benali", "Yilmaz", "Kaya", "Bakkali", "Mukendi", "Kabongo", "Nowak",
        "Kowalski", "Rodriguez", "Garcia", "Rossi", "Ferreira", "Aït Ouali", "Diallo",
        "Haddad", "Öztürk", "Moreau", "Van Hoeck", "Popescu",
    ),
    (
        "Mohamed", "Youssef", "Ayoub", "Mehmet", "Emre", "Karim", "Adam", "Ilyas",
        "Jean-Baptiste", "Tomasz", "Rayan", "Amine", "Mamadou", "Andrei",
    ),
    (
        "Fatima", "Samira", "Amina", "Yasmine", "Elif", "Zeynep", "Nour", "Sara", "Inès",
        "Aïcha", "Grace", "Agnieszka", "Ioana", "Mariam",
    ),
)

COMMUNITIES: tuple[Community, ...] = (FLANDERS, WALLONIA, BRUSSELS)
