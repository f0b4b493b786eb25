from dangxiao.cli import main

raise SystemExit(main())
