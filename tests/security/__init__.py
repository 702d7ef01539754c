"""Security findings reproduced as attacks, and the defences that stop them."""
