from imagechat_tui.cli import main

main()
