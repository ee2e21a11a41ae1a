"""getResolvedOptions: job parameters from `--name value` (or `--name=value`) in argv."""


class GlueArgumentError(Exception):
    pass


def getResolvedOptions(args, options):
    given = {}
    index = 1
    while index < len(args):
        word = args[index]
        if word.startswith("--"):
            name, equals, value = word[2:].partition("=")
            if not equals and index + 1 < len(args) and not args[index + 1].startswith("--"):
                value = args[index + 1]
                index += 1
            given[name] = value
        index += 1
    missing = [option for option in options if option not in given]
    if missing:
        raise GlueArgumentError("the following arguments are required: " + ", ".join("--" + m for m in missing))
    return {option: given[option] for option in options}
