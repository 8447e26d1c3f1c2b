"""The parts of the ``labflow`` command that are not its commands.

`labflow.cli` runs the commands; this private package holds what they are built from:
the message catalogue (every word the command prints, in English and Indonesian), the
argument parser built from it, and the shell-completion script derived from that parser.
"""
