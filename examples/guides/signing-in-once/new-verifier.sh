#!/bin/sh
# Prints a fresh PKCE code verifier: 64 characters of A-Z, a-z, 0-9, - and _
# (48 random bytes, base64url without padding), for configurations that take
# the verifier as a variable instead of from random_password.
head -c 48 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n'
