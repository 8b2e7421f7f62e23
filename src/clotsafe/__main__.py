from clotsafe.cli import main

main()
