"""dangxiao: party-school lessons on grassroots governance, with nbgrader grading and Voila publishing."""

__version__ = "0.1.0"
