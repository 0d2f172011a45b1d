from spectrum.cli import main

raise SystemExit(main())
