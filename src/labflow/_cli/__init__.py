"""The ``labflow`` command's parts, behind its entry point `labflow.cli`.

`labflow.cli` holds ``main`` and turns errors into sentences and exit codes; this private
package holds the rest: the message catalogue (`_catalogue`: every word the command
prints, in English and Indonesian), the argument parser built from it and the shell
completion derived from that parser (`_parser`), what every command shares (`_common`),
the writing commands derived from the command catalogue with their one generic body
(`_derived`), the few that write with a body of their own (`_writing`), those that read
(`_reading`), and the host rules a policy names, from ``--rules`` or installed plugins
(`_rules`).
"""
