from imagechat_tui.entry import main

main()
