"""python -m bot.discord"""

from bot.discord.app import run_discord
from wave_core.settings import get_settings

run_discord(get_settings())
