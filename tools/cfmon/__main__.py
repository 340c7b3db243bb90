from cfmon.cli import main

main()
