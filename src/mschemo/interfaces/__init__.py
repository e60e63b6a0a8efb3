"""How people reach mschemo: the command line (:mod:`.cli`) and, built on the same requests
(:mod:`.requests`), the web app. Neither resolves drugs, populations or regimens itself: a request
checks what was asked, in the words of the interface that asked, and says what to run."""
