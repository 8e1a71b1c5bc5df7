"""The learning itself: themes, programme, materials, minutes, evaluation, yearly record."""
