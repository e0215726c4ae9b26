"""Running the tutor in the xblock-sdk workbench: settings, stand-in blocks, course scenarios.

Nothing here is used inside Open edX. The stand-in blocks are registered by the workbench
settings alone, never as `xblock.v1` entry points, because edx-platform owns their names.
"""
