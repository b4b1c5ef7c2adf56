"""Names shown to people for the library's identifiers."""

OPTIMIZER_LABELS = {"sgd": "SGD", "momentum": "SGD + momentum", "adam": "Adam", "rmsprop": "RMSprop",
                    "adagrad": "Adagrad"}
